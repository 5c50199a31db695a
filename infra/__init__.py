"""The Pulumi program: the dev and prod stacks' containers, from the same environment spec."""

"""The Pulumi program under Pulumi's mocks: the dev and prod stacks' resource graphs."""

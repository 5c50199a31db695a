# The local sandbox's droplet image (datalayer/sandbox/image.py builds it; edits change its tag).
# BASE is a Debian 13 root filesystem made by debootstrap and `docker import`ed: no registry is
# needed. Built with the legacy builder as well as BuildKit, so no heredocs.
ARG BASE
FROM ${BASE}

# systemd reads `container` from PID 1's environment to know it runs in a container, and shuts
# down cleanly on SIGRTMIN+3 (on SIGTERM it would re-execute itself), so `docker stop` is a
# clean shutdown.
ENV container=docker
STOPSIGNAL SIGRTMIN+3

# The .deb files of every package a deploy installs are downloaded here, not installed: a deploy's
# `apt-get install` in a fresh droplet is real (dpkg, maintainer scripts, services starting) but
# does not wait on the network. apt-get keeps downloaded packages by default and `apt` deletes
# them; say "keep" for both, so that nothing configured later empties the cache. The package
# lists stay in the image too, so `apt-get install` works before any `apt-get update`.
ARG PREDOWNLOADED="postgresql-17 postgresql-17-timescaledb postgresql-client-17 pgbackrest python3-psycopg redis-server redis-sentinel ssl-cert prometheus"
RUN printf '%s\n' \
        '// Written by the datalayer sandbox image: the pre-downloaded .deb files must stay.' \
        'APT::Keep-Downloaded-Packages "true";' \
        'Binary::apt::APT::Keep-Downloaded-Packages "true";' \
        > /etc/apt/apt.conf.d/00datalayer-sandbox-keep-downloads \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install --download-only -y ${PREDOWNLOADED}

# Root logs in with the sandbox's generated key (copied to authorized_keys when a droplet is
# created), never with a password.
RUN install -d -m 700 /root/.ssh \
    && printf '%s\n' \
        '# Written by the datalayer sandbox image: key login as root, no passwords.' \
        'PermitRootLogin prohibit-password' \
        'PasswordAuthentication no' \
        'KbdInteractiveAuthentication no' \
        > /etc/ssh/sshd_config.d/datalayer-sandbox.conf

# Test image only: in a container, Debian's redis-server.service, redis-sentinel.service and
# prometheus.service (all PrivateUsers=true) fail with "Failed to set up user namespacing"
# (redis-sentinel: status 217/USER). Real droplets need no such drop-in, so the product's deploy
# does not ship one; this image does, before any of these packages is even installed.
RUN for unit in redis-server redis-sentinel prometheus; do \
        install -d /etc/systemd/system/"${unit}".service.d \
        && printf '%s\n' \
            '# Datalayer sandbox image only: user namespaces cannot be set up inside a container.' \
            '[Service]' \
            'PrivateUsers=false' \
            > /etc/systemd/system/"${unit}".service.d/datalayer-sandbox.conf \
        || exit 1; \
    done

# Units with no job in a container: no terminals to log in on (getty), devices and kernel modules
# belong to the host (udev, modules-load), and the apt timers would take the dpkg lock in the
# middle of a deploy. The machine id is emptied so that each droplet gets its own at boot instead
# of sharing the one debootstrap wrote.
RUN systemctl mask \
        getty.target console-getty.service \
        systemd-udevd.service systemd-udev-trigger.service \
        systemd-udevd-control.socket systemd-udevd-kernel.socket \
        systemd-modules-load.service \
        apt-daily.timer apt-daily-upgrade.timer \
    && : > /etc/machine-id

# The last step checks the final file system: every pre-downloaded package is still there.
RUN for package in ${PREDOWNLOADED}; do \
        ls /var/cache/apt/archives/"${package}"_*.deb > /dev/null || exit 1; \
    done

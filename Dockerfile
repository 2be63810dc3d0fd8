# pipeline-agent in a container: built with the Swift toolchain, run on Debian slim as a non-root user whose
# steps run as users of their own (docs/operations.md, "Running it in a container"; decision 0020).
#   docker build -t pipeline-agent .
#   docker run -d --name pipeline-agent -p 127.0.0.1:8080:8080 \
#     -v /srv/pipeline-agent/config:/etc/pipeline-agent:ro -v pipeline-agent-state:/var/lib/pipeline-agent \
#     --env-file /srv/pipeline-agent/environment --cap-drop ALL \
#     --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER --cap-add KILL --cap-add SETUID --cap-add SETGID \
#     pipeline-agent
# Steps need their tools in this image (dbt, a warehouse client): build FROM it and add them.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libgit2-dev libcurl4-openssl-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift Package.resolved ./
RUN swift package resolve
COPY Sources Sources
# The Swift runtime linked in: the runtime image has no toolchain, and a binary with file capabilities
# ignores $ORIGIN library paths.
RUN swift build -c release --product pipeline-agent --static-swift-stdlib \
    && install -D -m 0755 .build/release/pipeline-agent /out/pipeline-agent

FROM ${RUNTIME_IMAGE}
# git and openssh-client: ssh:// sources and approval signatures (ssh-keygen -Y); util-linux: setpriv;
# libcap2-bin: setcap, used below only.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates git openssh-client util-linux libcap2-bin libgit2-1.5 libcurl4 libsqlite3-0 \
    && rm -rf /var/lib/apt/lists/*
# The agent's own user, and one user for the steps of every stage but prod and one for prod's: a dev step
# then cannot touch prod's checkout, secrets or processes (execution.stepUser, execution.users).
# Fixed ids, so that a volume's owner means the same in the next image.
RUN useradd --system --uid 10001 --user-group --create-home --shell /usr/sbin/nologin pipeline-agent \
    && useradd --system --uid 10002 --user-group --create-home --shell /usr/sbin/nologin pa-step \
    && useradd --system --uid 10003 --user-group --create-home --shell /usr/sbin/nologin pa-prod \
    && install -d -m 0700 -o pipeline-agent -g pipeline-agent /var/lib/pipeline-agent /var/lib/pipeline-agent-work \
    && install -d -m 0755 /etc/pipeline-agent
COPY --from=build /out/pipeline-agent /usr/local/bin/pipeline-agent
COPY examples/agent.yaml /usr/local/share/doc/pipeline-agent/agent.yaml
# After the COPY: copying a file drops its capabilities. The agent keeps what it needs to hand checkouts to
# step users and clean up after them; the switch is a setpriv copy only the agent's group may run.
RUN setcap cap_chown,cap_dac_override,cap_fowner,cap_kill+ep /usr/local/bin/pipeline-agent \
    && install -D -m 0750 -o root -g pipeline-agent /usr/bin/setpriv /usr/local/libexec/pipeline-agent/setpriv \
    && setcap cap_setuid,cap_setgid+ep /usr/local/libexec/pipeline-agent/setpriv \
    && chmod 0750 /usr/local/libexec/pipeline-agent && chgrp pipeline-agent /usr/local/libexec/pipeline-agent
USER 10001:10001
ENV HOME=/home/pipeline-agent
VOLUME ["/var/lib/pipeline-agent"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ok <&3"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pipeline-agent"]
CMD ["run", "--config", "/etc/pipeline-agent/agent.yaml", "--log-format", "json"]

# Mizzen's image: `mizzen server`, `mizzen agent`, and the `mizzen init` / `mizzen sidecar`
# containers of runs all use it.
#   docker build -t mizzen/mizzen:0.1.0 .

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MIZZEN_HOME=/var/lib/mizzen
# git: the git init step clones repositories.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 mizzen \
    && useradd --system --uid 10001 --gid mizzen --home-dir /var/lib/mizzen --create-home \
       --shell /usr/sbin/nologin mizzen
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir "$(ls /tmp/dist/mizzen-*.whl)[s3,gcs,postgres,kubernetes]" \
    && rm -rf /tmp/dist
USER 10001:10001
WORKDIR /var/lib/mizzen
EXPOSE 8000
ENTRYPOINT ["mizzen"]
CMD ["--help"]

# PlanetML image: JupyterLab with the notebooks, Voila inside it, torch with CUDA when a GPU is present.
# First version (see issue "Platform"): build with `docker build -t planetml .`,
# run with `docker run --gpus all -p 8888:8888 planetml` (or without --gpus on CPU).
# torch's CUDA wheels carry their own CUDA libraries, so any Python 3.11 base will do; the
# NVIDIA container toolkit supplies the driver at `docker run --gpus all`.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="PlanetML" \
      org.opencontainers.image.description="Machine-learning pipelines for planetary and space-plasma science" \
      org.opencontainers.image.source="https://github.com/planetml/planetml" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 --shell /bin/bash jovyan

ENV VIRTUAL_ENV=/opt/planetml PATH=/opt/planetml/bin:$PATH HOME=/home/jovyan
# Dependencies first (the large, rarely changing layer), from the same lock as make and Binder.
COPY requirements/lock.txt /tmp/requirements/lock.txt
RUN python3 -m venv /opt/planetml \
 && pip install --no-cache-dir -r /tmp/requirements/lock.txt \
 && rm -rf /tmp/requirements

COPY --chown=1000:1000 . /home/jovyan/planetml
RUN pip install --no-cache-dir --no-deps /home/jovyan/planetml

USER 1000
WORKDIR /home/jovyan/planetml
EXPOSE 8888
HEALTHCHECK --interval=30s --timeout=5s CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api')"]
ENTRYPOINT ["tini", "--"]
CMD ["planetml", "lab", "--ip", "0.0.0.0", "--port", "8888"]

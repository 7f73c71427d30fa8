# PlanetML image: JupyterLab with the notebooks, Voila inside it, torch with CUDA when a GPU is present.
#   docker build -t planetml .
#   docker run --gpus all -p 8888:8888 planetml      (without --gpus it runs on CPU)
# torch's CUDA wheels (the nvidia-* and cuda-* pins of requirements/lock.txt) carry their own CUDA
# runtime, cuDNN and NCCL; the host's NVIDIA driver comes in with `--gpus all` (NVIDIA container
# toolkit). So a plain Python 3.11 base does, and a CUDA base image would only add a second copy
# of the same libraries: see docs/platforms.md. BASE_IMAGE: any Debian-based image with Python 3.11
# and its venv module (`make test-image` builds on Debian bookworm's own python3).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="PlanetML" \
      org.opencontainers.image.description="Machine-learning pipelines for planetary and space-plasma science, as a JupyterLab bundle" \
      org.opencontainers.image.source="https://github.com/planetml/planetml" \
      org.opencontainers.image.documentation="https://github.com/planetml/planetml/blob/main/docs/platforms.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# tini runs as PID 1 (reaps the kernels' children, passes signals on); jovyan (UID 1000) is the user.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 --user-group --shell /bin/bash jovyan

ENV VIRTUAL_ENV=/opt/planetml \
    PATH=/opt/planetml/bin:$PATH \
    HOME=/home/jovyan

# The dependencies, from the same lock as make and Binder: the large layer that rarely changes.
# g++ and make build KT17 from source and are purged in the same layer. JUPYTERHUB_VERSION (empty:
# none) adds the Hub's jupyterhub-singleuser, for platforms that spawn this image from JupyterHub.
# PIP_CONFIG_FILE lets a build use a local package mirror or a proxy's CA (tools/test_image.sh
# does); like every ARG it is not kept in the image.
ARG JUPYTERHUB_VERSION=""
ARG PIP_CONFIG_FILE
COPY requirements/lock.txt /tmp/requirements/lock.txt
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make \
 && python3 -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else f"PlanetML needs Python 3.11, the base image has {sys.version.split()[0]}")' \
 && python3 -m venv /opt/planetml \
 && pip install --no-cache-dir -r /tmp/requirements/lock.txt \
 && if [ -n "$JUPYTERHUB_VERSION" ]; then \
      pip install --no-cache-dir -c /tmp/requirements/lock.txt "jupyterhub==$JUPYTERHUB_VERSION"; fi \
 && apt-get purge -y --auto-remove g++ make \
 && rm -rf /var/lib/apt/lists/* /tmp/requirements /root/.cache

# The code, then the notebooks (jovyan's, so notebooks can save models next to them). The shipped
# models stay inside the installed package, read-only; ~/models points at them.
COPY pyproject.toml README.md LICENSE /tmp/planetml/
COPY planetml_lib /tmp/planetml/planetml_lib
RUN pip install --no-cache-dir --no-deps /tmp/planetml \
 && rm -rf /tmp/planetml /root/.cache \
 && ln -s "$(python -c 'import planetml_lib.datasets as d; print(d.DATA_DIR / "models")')" /home/jovyan/models
# Start scripts of the science platforms (ESA Datalabs, EXPLORE): see platforms/*/README.md.
COPY platforms /opt/planetml/platforms
COPY --chown=1000:1000 notebooks /home/jovyan/notebooks

USER 1000
WORKDIR /home/jovyan
# matplotlib's font cache and umap's numba compilation (about 20 s), done once here rather than in the
# first notebook and dashboard page of every container; numba keeps what it compiles in NUMBA_CACHE_DIR.
ENV NUMBA_CACHE_DIR=/home/jovyan/.cache/numba
RUN python -c "import matplotlib.font_manager, numpy; from planetml_lib.models.surface_units import embed; embed(numpy.random.default_rng(0).random((60, 3)))"
EXPOSE 8888 8866
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s CMD ["python3", "-m", "planetml_lib.lab"]
ENTRYPOINT ["tini", "--"]
CMD ["planetml", "lab", "--ip", "0.0.0.0", "--notebook-dir", "/home/jovyan"]

"""gunicorn settings shared by every service: Prometheus multiprocess bookkeeping, graceful timeouts."""

import os

graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "25"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "60"))
accesslog = None


def on_starting(server):
    # Multiprocess metrics need their folder, emptied of a previous run's samples (a restarted pod
    # keeps /tmp when it is an emptyDir of the pod, not of the container).
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    # A dead worker's live gauges must not be summed any more (prometheus-client multiprocess mode).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

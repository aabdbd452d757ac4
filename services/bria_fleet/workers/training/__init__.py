"""Training: complete the dataset, find or create the model, start or stop its training, and
watch it for hours until a terminal status (docs/architecture.md §1, §4).

Watches are keyed per job (``training:<model_id>/<job_id>``, and ``training_stop:...`` for a
stop): two jobs following one model (an upstream resubmitting under a new job id, or a train
job and a stop job) each keep a watch of their own and each end in one terminal event.
"""

from bria_fleet.workers.training._logic import STOP_KIND, TRAINING_KIND, TrainingLogic

__all__ = ["STOP_KIND", "TRAINING_KIND", "TrainingLogic"]

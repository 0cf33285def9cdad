"""Unsupervised RGB-T training pairs for cross-modal distillation.

Three box sources (central region, random sampling, detector boxes) turn unlabelled, aligned RGB-T
frames into pairs: a template patch in one modality and a search patch at the same box in the
other (same instant, or later along a tracklet). See `generate.generate_pairs`; the pair manifest's
schema is in `schema`, the quality report (the only reader of ground truth) in `quality`.
"""

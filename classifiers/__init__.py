"""Classifiers: detector families that turn text into detections."""

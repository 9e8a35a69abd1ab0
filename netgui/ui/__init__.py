"""Reusable Tk pieces: Form, task runner, spinner, transcript, progress rows, dialogs."""

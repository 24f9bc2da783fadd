"""The imaging core: one source file in, every requested thumbnail out.

Nothing here knows about queues, watching or the terminal.
"""

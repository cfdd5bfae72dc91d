"""Voice-of-customer engine (issue 7): themes and sentiment of customer text, without Django.

Plain functions over plain values, so the feedback models, jobs and pages built on top can call
them from anywhere (a Huey task, a management command, a test):

- ``embedding``: text to normalised vectors. The sentence-embedding model of the ``insights``
  extra when it is installed, else a TF-IDF fallback (``active_backend`` tells which).
- ``themes``: cluster texts into themes whose number is chosen from the data, label them, assign
  new texts to them, and keep theme identities stable across re-clusterings.
- ``sentiment``: positive / neutral / negative with a score in [-1, 1] (VADER).
- ``evaluation``: agreement of themes with labelled data (NMI, adjusted Rand index).
- ``text``: the cleaning shared by all of them (order numbers, emails, links taken out).
"""

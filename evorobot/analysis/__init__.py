"""Analysis of evolved networks (``evorobot analyze``): lesions, perturbations, neural traces, the
steady-state input-output map and phase portraits, after Beer (2003) and Izquierdo & Beer (2013).

:mod:`~evorobot.analysis.interventions` changes a running network (lesions, perturbations),
:mod:`~evorobot.analysis.studies` runs the studies on the champion's own episode,
:mod:`~evorobot.analysis.figures` draws them (matplotlib, the ``plot`` extra) and
:mod:`~evorobot.analysis.command` is the command; :mod:`~evorobot.analysis.readout` is the
cross-validated linear read-out of a trial's category per tick from groups of neurons (MTRNN's
functional hierarchy, Yamashita & Tani 2008; ``examples/mtrnn_hierarchy.py``). Importing this
package loads no matplotlib.
"""

"""The worked examples, shipped inside the package so that a wheel install runs them.

``python -m reference_nn.examples.NAME`` or ``refnn train --example ...``:

``mazur_2_2_2``      Matt Mazur's published 2-2-2 sigmoid/MSE step, weight by weight
``deep_classifier``  the L-layer ``[LINEAR -> RELU] x (L-1) -> LINEAR -> SIGMOID`` classifier
``two_moons``        a 2-16-1 network on two moons, loss curves and decision boundary
``step_size``        finite-difference error against step size (the picture behind the tolerances)

Plots go to ``--out DIR`` (default ``refnn-output/`` in the working directory); only
``--update-docs`` writes the committed images under ``docs/images/`` of a source checkout, so
running an example never changes the repository. Plotting needs matplotlib (the ``plots`` extra),
checked before any training starts. The training itself is NumPy only.
"""

"""Side-by-side benchmarks of the reference against torch and TensorFlow.

Each module is runnable on its own (``python -m benchmarks.training_step``,
``python -m benchmarks.gradcheck_cost``, ``python -m benchmarks.suite_throughput``) and writes a
Markdown table, a JSON file and a PNG plot under ``benchmarks/results/``; ``python -m benchmarks``
runs all three. Every figure comes from one run that times the contenders interleaved and reports
ratios: absolute times on a shared machine are noise, ratios taken side by side are not.
"""

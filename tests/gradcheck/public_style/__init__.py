"""Hand-written NumPy backward passes in the styles found in public code, re-typed for QA of the
gradient checker (course-assignment layers with caches, L-layer nets with samples in columns,
layer objects with self.W / self.dW, value-and-grad two-layer nets). Each takes ``bug=`` to plant
one classic mistake; ``bug=None`` is the right code."""

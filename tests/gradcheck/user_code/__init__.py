"""Hand-written layers, losses and models in the styles people write them (course assignments,
from-scratch nets, small layer libraries), written from scratch for the tests of check_vjp,
check_value_and_grad and check_layer. Each module has the right code and, in buggy.py, one
planted bug per function, of the kind people make."""

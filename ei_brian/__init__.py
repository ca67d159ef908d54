"""ei_brian: Dale's-law excitatory/inhibitory spiking networks in Brian2, trained with surrogate
gradients, analysed with Neo and Elephant."""
__version__ = "0.1.0"

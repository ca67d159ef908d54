"""The filter for the deprecation warnings that Brian2's own code causes (a module of its own,
importing nothing of ``ei_brian``, so that any module may use it without a circle)."""
import warnings

__all__ = ["quiet_brian2_warnings"]


def quiet_brian2_warnings():
    """Brian2 2.9 calls pyparsing methods that pyparsing 3.3 deprecates; the warnings are about
    Brian2's code, not the user's, and would fill every log. Called again where other libraries
    put filters in front (Elephant's ``spade`` module shows every ``UserWarning`` once, and
    pyparsing's warnings are ``UserWarning``s too)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning,
                            module=r"(brian2|pyparsing)(\.|$)")

"""SAE classes beyond binary atoms (DESIGN §1.2b): problems, exact methods, floors and a slow reference.

``binary ⊂ real-atoms ⊂ real-codes``, each contained in its ``+ bias`` version. Entry points:
:func:`solve_class` (min D under the cap, optional rate budget), :func:`class_floor` (monosemantic floor),
:func:`reference_solve` (slow enumeration, independent code).
"""

from rdp_exact.classes.floors import Floor, class_floor
from rdp_exact.classes.problem import (
    CLASSES,
    ClassProblem,
    ClassSolution,
    RealEvaluation,
    RealSAE,
    SAEClass,
    evaluate_real,
)
from rdp_exact.classes.reference import reference_solve
from rdp_exact.classes.solve import METHODS, choose_method, solve_class

__all__ = [
    "CLASSES",
    "METHODS",
    "ClassProblem",
    "ClassSolution",
    "Floor",
    "RealEvaluation",
    "RealSAE",
    "SAEClass",
    "choose_method",
    "class_floor",
    "evaluate_real",
    "reference_solve",
    "solve_class",
]

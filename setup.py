"""The optional C part (aggregator/_speedups.c); everything else is in pyproject.toml.

`optional=True`: on a machine without a C compiler the install still succeeds and the pure-Python
references run instead (slower, same results).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("aggregator._speedups", ["aggregator/_speedups.c"], optional=True,
                             extra_compile_args=["-O3"])])

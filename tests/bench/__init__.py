"""`make bench`: load figures for Keyhouse (not collected by pytest; see pyproject norecursedirs)."""

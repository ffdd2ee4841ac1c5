"""CourseBot's tests (a package, so that `tests.conftest` is ours and not a same-named
package some dependency installs)."""

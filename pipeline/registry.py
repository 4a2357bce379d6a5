"""One registry of the models and resources the pipeline loads (embedders, spaCy pipelines, YAML tables, tools).

Each loader is registered under a name and built on first use, once per key (its arguments), then shared by
the whole process. Tests swap a loader for the length of a `with` block:

    with registry.override("taxonomy", lambda: my_taxonomy):
        ...  # every load_taxonomy() in the pipeline returns my_taxonomy

and `registry.clear()` forgets every loaded instance (after editing a resource file, or between tests).
Loaders are declared where they are used, with `@registry.loader(name)`, which returns a function that goes
through the registry: call sites stay `load_taxonomy()`.
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator, TypeVar

T = TypeVar("T")


class Registry:
    """Named loaders with lazy, cached instances (one per key) and test overrides."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[..., Any]] = {}
        self._overrides: dict[str, list[Callable[..., Any]]] = {}
        self._instances: dict[tuple[str, tuple], Any] = {}
        self._locks: dict[tuple[str, tuple], threading.Lock] = {}
        self._lock = threading.Lock()

    def register(self, name: str, factory: Callable[..., Any]) -> None:
        """Declare the loader `name`; registering a name twice is a mistake (two modules would fight over it)."""
        with self._lock:
            if name in self._factories and self._factories[name] is not factory:
                raise ValueError(f"A loader named {name!r} is already registered")
            self._factories[name] = factory

    def loader(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register the function as the loader `name` and return a function that calls `get`."""
        def wrap(factory: Callable[..., T]) -> Callable[..., T]:
            self.register(name, factory)

            @functools.wraps(factory)
            def get(*key: Hashable) -> T:
                return self.get(name, *key)

            get.registry_name = name  # type: ignore[attr-defined]
            return get

        return wrap

    def get(self, name: str, *key: Hashable) -> Any:
        """The instance of `name` for `key`, built by its loader (or the active override) on first use."""
        slot = (name, key)
        try:
            return self._instances[slot]
        except KeyError:
            pass
        with self._lock:
            factory = self._factory(name)
            lock = self._locks.setdefault(slot, threading.Lock())
        # One lock per instance: two threads loading different models (the embedder and a spaCy pipeline) do
        # not wait for each other, and two threads asking for the same one load it once.
        with lock:
            if slot not in self._instances:
                instance = factory(*key)
                with self._lock:
                    # An override that ended while this was loading must not leave its instance behind.
                    if self._factory(name) is factory:
                        self._instances[slot] = instance
                return instance
            return self._instances[slot]

    def _factory(self, name: str) -> Callable[..., Any]:
        stack = self._overrides.get(name)
        if stack:
            return stack[-1]
        try:
            return self._factories[name]
        except KeyError:
            raise KeyError(f"No loader named {name!r}; known: {', '.join(sorted(self._factories)) or 'none'}") from None

    @contextmanager
    def override(self, name: str, factory: Callable[..., Any]) -> Iterator[None]:
        """Use `factory` for `name` inside the block; what it built is forgotten when the block ends."""
        with self._lock:
            self._factory(name)  # a typo in the name fails here, not silently
            self._overrides.setdefault(name, []).append(factory)
            self._forget(name)
        try:
            yield
        finally:
            with self._lock:
                self._overrides[name].remove(factory)
                self._forget(name)

    def clear(self, name: str | None = None) -> None:
        """Forget the loaded instances (of one loader, or of all): the next `get` loads again."""
        with self._lock:
            if name is None:
                self._instances.clear()
            else:
                self._forget(name)

    def _forget(self, name: str) -> None:
        for slot in [s for s in self._instances if s[0] == name]:
            del self._instances[slot]

    def names(self) -> list[str]:
        return sorted(self._factories)

    def loaded(self, name: str) -> list[tuple]:
        """The keys of `name` loaded so far."""
        return [key for (n, key) in list(self._instances) if n == name]


registry = Registry()
loader = registry.loader


# --------------------------------------------------------------------------------------------- shared loaders


@loader("embedder")
def _load_embedder(spec: str, threads: int):
    from pipeline.config import offline_hub
    from pipeline.embed import make_embedder

    offline_hub()
    return make_embedder(spec, None, threads)


def shared_embedder(spec: str, threads: int = 2):
    """An embedder named by its spec, loaded once per process (no disk cache), shared by the stages that are
    called without one (a form checked on its own, the criteria scorer given a spec)."""
    return registry.get("embedder", spec, int(threads))

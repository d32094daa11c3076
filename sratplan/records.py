"""Record classes for the model and the kernel state: what ``@dataclass``
gives this package, for a tenth of the cost of creating the class.

``dataclasses`` builds every class at import time with half a dozen ``exec``
calls and some introspection (it also imports ``inspect``): about 1 ms a
class on the machines we measured, and sratplan's plan path defines some
fifty of them — more than planning a large machine takes.  :func:`record`
makes the same classes with one small ``exec`` (the ``__init__``, which is
hot: memblock regions are created by the thousand) and shares generic
``__repr__`` / ``__eq__`` / ``__hash__`` / ordering methods driven by the
field list.

Supported, with dataclass semantics: annotated fields in definition order
(``ClassVar`` excluded), defaults, :func:`field` with ``default``,
``default_factory``, ``compare`` and ``hash``; ``frozen`` (assignment raises
``dataclasses.FrozenInstanceError``; the module is imported only then),
``order``, ``slots``, ``__post_init__``.  :func:`replace` and :func:`fields`
stand for ``dataclasses.replace`` / ``dataclasses.fields`` (names only).
tests/test_records.py holds records and dataclasses to the same behaviour.
"""

from __future__ import annotations

from operator import attrgetter

__all__ = ["field", "record", "replace", "fields"]

_MISSING = object()


class Field:
    __slots__ = ("default", "default_factory", "compare", "hash")

    def __init__(self, default=_MISSING, default_factory=_MISSING, compare=True, hash=None):  # noqa: A002
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.hash = hash


def field(*, default=_MISSING, default_factory=_MISSING, compare=True, hash=None):  # noqa: A002
    """A field with options, as ``dataclasses.field``."""
    return Field(default, default_factory, compare, hash)


def _frozen_error(name):
    from dataclasses import FrozenInstanceError  # only when someone tries to mutate

    return FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_setattr(self, name, value):
    raise _frozen_error(name)


def _frozen_delattr(self, name):
    raise _frozen_error(name)


def _repr(self):
    return (f"{type(self).__qualname__}("
            + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_fields__) + ")")


def _eq(self, other):
    if other.__class__ is self.__class__:
        return self.__record_key__(self) == other.__record_key__(other)
    return NotImplemented


def _hash(self):
    return hash(self.__record_hkey__(self))


def _cmp(op):
    def method(self, other):
        if other.__class__ is self.__class__:
            return op(self.__record_key__(self), other.__record_key__(other))
        return NotImplemented
    return method


def _key(names):
    """A function of an instance giving the tuple of ``names``' values."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return attrgetter(*names)


def _annotations(cls):
    return [(n, a) for n, a in cls.__dict__.get("__annotations__", {}).items()
            if not str(a).startswith(("ClassVar", "typing.ClassVar"))]


def _process(cls, frozen: bool, order: bool, slots: bool):
    specs = []  # (name, default, factory, compare, hash)
    for base in reversed(cls.__mro__[1:]):
        specs.extend(getattr(base, "__record_specs__", ()))
    own = _annotations(cls)
    by_name = {s[0]: i for i, s in enumerate(specs)}
    for name, _ann in own:
        v = cls.__dict__.get(name, _MISSING)
        if type(v) in (list, dict, set):
            raise ValueError(f"mutable default {type(v)} for field {name} is not allowed: use default_factory")
        if isinstance(v, Field):
            spec = (name, v.default, v.default_factory, v.compare, v.compare if v.hash is None else v.hash)
        else:
            spec = (name, v, _MISSING, True, True)
        if name in by_name:
            specs[by_name[name]] = spec
        else:
            by_name[name] = len(specs)
            specs.append(spec)

    names = [s[0] for s in specs]
    params, body, glob = [], [], {"__object_setattr": object.__setattr__}
    seen_default = False
    for name, default, factory, _c, _h in specs:
        if factory is not _MISSING:
            glob[f"__f_{name}"] = factory
            glob["__MISSING"] = _MISSING
            params.append(f"{name}=__MISSING")
            value = f"__f_{name}() if {name} is __MISSING else {name}"
            seen_default = True
        elif default is not _MISSING:
            glob[f"__d_{name}"] = default
            params.append(f"{name}=__d_{name}")
            value = name
            seen_default = True
        else:
            if seen_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
            params.append(name)
            value = name
        body.append(f"    __object_setattr(self, {name!r}, {value})" if frozen else f"    self.{name} = {value}")
    if "__post_init__" in dir(cls):
        body.append("    self.__post_init__()")
    src = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(src, glob)  # noqa: S102 - source built above from field names only
    init = glob["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"

    ns = dict(cls.__dict__)
    for name in names:
        # class-level defaults would shadow slots, and dataclasses drops Field objects too
        if isinstance(ns.get(name), Field) or (slots and name in ns):
            del ns[name]
    ns["__record_fields__"] = tuple(names)
    ns["__record_specs__"] = tuple(specs)
    ns["__record_key__"] = staticmethod(_key([s[0] for s in specs if s[3]]))
    ns["__record_hkey__"] = staticmethod(_key([s[0] for s in specs if s[4]]))
    ns["__match_args__"] = tuple(names)
    ns.setdefault("__init__", init)
    ns.setdefault("__repr__", _repr)
    ns.setdefault("__eq__", _eq)
    if "__hash__" not in cls.__dict__ or cls.__dict__["__hash__"] is None:
        # dataclass: eq + frozen -> hash of the fields; eq without frozen -> unhashable
        ns["__hash__"] = _hash if frozen else None
    if frozen:
        ns["__setattr__"] = _frozen_setattr
        ns["__delattr__"] = _frozen_delattr
    if order:
        import operator

        for op in ("lt", "le", "gt", "ge"):
            ns.setdefault(f"__{op}__", _cmp(getattr(operator, op)))
    if slots:
        ns["__slots__"] = tuple(n for n in names if not any(n in getattr(b, "__slots__", ()) for b in cls.__mro__[1:]))
        ns.pop("__dict__", None)
        ns.pop("__weakref__", None)
        if frozen:
            # slotted frozen instances pickle through their field values
            ns.setdefault("__getstate__", lambda self: tuple(getattr(self, n) for n in names))
            ns.setdefault("__setstate__", _setstate)
        return type(cls)(cls.__name__, cls.__bases__, ns)
    for k, v in ns.items():
        if k not in ("__dict__", "__weakref__") and cls.__dict__.get(k, _MISSING) is not v:
            setattr(cls, k, v)
    for name in names:
        v = cls.__dict__.get(name)
        if isinstance(v, Field):
            # as dataclasses does: the class attribute becomes the default, or goes
            if v.default is not _MISSING:
                setattr(cls, name, v.default)
            else:
                delattr(cls, name)
    return cls


def _setstate(self, state):
    for n, v in zip(self.__record_fields__, state):
        object.__setattr__(self, n, v)


def record(cls=None, /, *, frozen: bool = False, order: bool = False, slots: bool = False):
    """Class decorator: ``@record`` / ``@record(frozen=True, ...)``, with the
    meaning of the same ``@dataclass`` arguments."""

    def wrap(c):
        return _process(c, frozen, order, slots)

    return wrap if cls is None else wrap(cls)


def fields(obj_or_cls) -> tuple:
    """The field names, in order."""
    return obj_or_cls.__record_fields__


def replace(obj, **changes):
    """A copy of ``obj`` with some fields changed (``dataclasses.replace``)."""
    names = obj.__record_fields__
    for k in changes:
        if k not in names:
            raise TypeError(f"{type(obj).__name__}.__init__() got an unexpected keyword argument {k!r}")
    return type(obj)(**{n: changes[n] if n in changes else getattr(obj, n) for n in names})

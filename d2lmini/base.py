"""``HyperParameters`` and ``add_to_class``: the two small tools the book's
object-oriented design rests on (section 3.2)."""
import inspect


def add_to_class(Class):
    """Register the decorated function as a method of ``Class``.

    Lets a notebook define a class across several cells::

        @d2l.add_to_class(MyModel)
        def forward(self, X): ...
    """
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
    return wrapper


class HyperParameters:
    """Base class that turns ``__init__`` arguments into attributes."""
    def save_hyperparameters(self, ignore=[]):
        """Store the arguments of the calling ``__init__`` as attributes.

        ``ignore`` names arguments to leave out. The saved values are also
        collected in ``self.hparams``.
        """
        caller = inspect.currentframe().f_back
        args = inspect.getargvalues(caller)
        names = list(args.args[1:])  # skip self
        values = {name: args.locals[name] for name in names}
        if args.keywords:  # **kwargs are saved under their own names
            values.update(args.locals[args.keywords])
        self.hparams = {k: v for k, v in values.items()
                        if k not in ignore and not k.startswith('_')}
        for name, value in self.hparams.items():
            setattr(self, name, value)

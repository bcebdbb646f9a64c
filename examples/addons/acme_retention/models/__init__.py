from . import retention

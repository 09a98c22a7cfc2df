"""Pure business code: one package per bounded context plus the shared kernel."""

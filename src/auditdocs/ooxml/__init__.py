"""WordprocessingML and the zip package, the only code that speaks it: reading untrusted
packages safely, reading and writing content controls, building templates and forms."""

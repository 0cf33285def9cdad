"""Pictures: contact sheets of RGB | TIR frames with boxes, and (later) curves."""

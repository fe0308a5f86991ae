"""HTTP only: one blueprint per audience. Views parse input, call a service, render."""

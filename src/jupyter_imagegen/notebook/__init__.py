"""The notebook front ends: the ``%%imagegen`` magic and the control panel widget."""

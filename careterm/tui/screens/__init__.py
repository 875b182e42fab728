"""The screens pushed over the main one: a pupil's file, an audit entry, help, menus, time travel."""

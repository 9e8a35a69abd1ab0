"""Double-click entry point: starts the netgui window."""

from netgui.app import main

if __name__ == "__main__":
    main()

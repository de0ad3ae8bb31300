"""`python -m custodes …` runs the same command line as the `custodes` script."""

from custodes.cli import main

if __name__ == "__main__":
    main()

from chapar.cli import main

main()

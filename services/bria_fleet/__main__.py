from bria_fleet.cli import main

main()

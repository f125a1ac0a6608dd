from cloudsite.cli import main

main()

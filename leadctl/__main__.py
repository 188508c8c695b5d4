from leadctl.cli import main

main()

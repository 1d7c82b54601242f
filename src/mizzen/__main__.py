from mizzen.cli.main import main

main()

from cart_outcomes.cli import main

main()

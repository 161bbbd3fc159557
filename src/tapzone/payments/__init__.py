"""Card terminals and other cashless payment providers: the ports, ZVT, the simulators and the payment flow."""

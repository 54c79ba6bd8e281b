print("moonlab")

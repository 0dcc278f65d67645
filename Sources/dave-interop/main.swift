import DAVE

print("dave-interop: modes are added as the DAVE session lands")

"""mizzen.spec"""

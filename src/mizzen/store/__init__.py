"""mizzen.store"""

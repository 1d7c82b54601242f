"""mizzen.render"""

"""mizzen.tracking"""

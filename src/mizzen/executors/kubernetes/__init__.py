"""mizzen.executors.kubernetes"""

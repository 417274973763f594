// The object that carries souk_pch (see cmake/pch.hpp).

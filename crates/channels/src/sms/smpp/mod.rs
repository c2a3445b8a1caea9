//! SMPP 3.4 / 5.0 as an ESME.

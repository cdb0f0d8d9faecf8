"""The market side: directories of producers, outlets and inspectors, unified social credit codes, and (later)
authorized users of the GI mark, mark issuance and mass balance."""

"""Code signing: configs (AWS's API), signing profiles the operator registers, and the
signature check applied on CreateFunction and UpdateFunctionCode."""

import SpecModel
